<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="ko_KR" sourcelanguage="en">
<context>
    <name>CheckinScreen</name>
    <message>
        <location filename="../checkin.py" line="224"/>
        <source>Look at the camera to check in.</source>
        <translation>출석하려면 카메라를 보세요.</translation>
    </message>
    <message>
        <location filename="../checkin.py" line="155"/>
        <source>Student ID:</source>
        <translation>학번:</translation>
    </message>
    <message>
        <location filename="../checkin.py" line="157"/>
        <source>Name:</source>
        <translation>이름:</translation>
    </message>
    <message>
        <location filename="../checkin.py" line="159"/>
        <source>Distance:</source>
        <translation>거리:</translation>
    </message>
    <message>
        <location filename="../checkin.py" line="177"/>
        <source>Result</source>
        <translation>인식 결과</translation>
    </message>
    <message>
        <location filename="../checkin.py" line="195"/>
        <source>Check-ins on this PC</source>
        <translation>이 PC의 출석 기록</translation>
    </message>
    <message>
        <location filename="../checkin.py" line="249"/>
        <source>Enter the lecture code at the top to start the check-in.</source>
        <translation>출석을 시작하려면 위에 강의 코드를 입력하세요.</translation>
    </message>
    <message>
        <location filename="../checkin.py" line="468"/>
        <source>Checked in: %1</source>
        <translation>출석 완료: %1</translation>
    </message>
    <message>
        <location filename="../checkin.py" line="469"/>
        <source>checked in ✓</source>
        <translation>출석 ✓</translation>
    </message>
    <message>
        <location filename="../checkin.py" line="267"/>
        <source>Hold still… (%1 of %2)</source>
        <translation>움직이지 마세요… (%2장 중 %1장)</translation>
    </message>
    <message>
        <location filename="../checkin.py" line="369"/>
        <source>Checking…</source>
        <translation>확인하는 중…</translation>
    </message>
    <message>
        <location filename="../checkin.py" line="428"/>
        <source>Only one person in front of the camera, please. Try again.</source>
        <translation>카메라 앞에는 한 사람만 서 주세요. 다시 시도하세요.</translation>
    </message>
    <message>
        <location filename="../checkin.py" line="430"/>
        <source>The picture was not clear enough. Look at the camera again.</source>
        <translation>사진이 충분히 선명하지 않습니다. 다시 카메라를 보세요.</translation>
    </message>
    <message>
        <location filename="../checkin.py" line="444"/>
        <source>Nothing was marked: try again in a moment.</source>
        <translation>출석 처리하지 않았습니다. 잠시 후 다시 시도하세요.</translation>
    </message>
    <message>
        <location filename="../checkin.py" line="460"/>
        <source>%1 was already checked in (%2).</source>
        <translation>%1 학생은 이미 출석했습니다 (%2).</translation>
    </message>
    <message>
        <location filename="../checkin.py" line="466"/>
        <source>already checked in</source>
        <translation>이미 출석함</translation>
    </message>
    <message>
        <location filename="../checkin.py" line="475"/>
        <source>Almost: look straight at the camera once more.</source>
        <translation>거의 다 됐습니다. 카메라를 한 번 더 똑바로 보세요.</translation>
    </message>
    <message>
        <location filename="../checkin.py" line="477"/>
        <source>Not sure who you are: your check-in waits for your professor&apos;s confirmation.</source>
        <translation>누구인지 확실하지 않습니다. 교수님이 확인하면 출석 처리됩니다.</translation>
    </message>
    <message>
        <location filename="../checkin.py" line="480"/>
        <source>Face not recognized with certainty</source>
        <translation>확실하게 인식하지 못한 얼굴</translation>
    </message>
    <message>
        <location filename="../checkin.py" line="480"/>
        <source>waiting for the professor</source>
        <translation>교수님 확인 대기</translation>
    </message>
    <message>
        <location filename="../checkin.py" line="482"/>
        <source>Not recognized: this face is not on the lecture&apos;s roster. Not marked.</source>
        <translation>인식하지 못했습니다. 이 강의 수강생의 얼굴이 아닙니다. 출석 처리하지 않았습니다.</translation>
    </message>
    <message>
        <location filename="../checkin.py" line="483"/>
        <source>Unknown face</source>
        <translation>알 수 없는 얼굴</translation>
    </message>
    <message>
        <location filename="../checkin.py" line="483"/>
        <source>not marked</source>
        <translation>출석 처리 안 함</translation>
    </message>
    <message>
        <location filename="../checkin.py" line="517"/>
        <source>%1 (accepted up to %2)</source>
        <translation>%1 (%2까지 인정)</translation>
    </message>
    <message>
        <location filename="../checkin.py" line="185"/>
        <source>Stand alone in front of the camera and look at it for a second or two. Only a face the server is sure of is checked in; if it is not sure, your professor confirms the check-in.</source>
        <translation>카메라 앞에 혼자 서서 1~2초 동안 카메라를 보세요. 서버가 확실히 알아본 얼굴만 출석 처리하며, 확실하지 않으면 교수님이 출석을 확인합니다.</translation>
    </message>
    <message>
        <location filename="../checkin.py" line="163"/>
        <source>Show that you are here</source>
        <translation>본인 확인 동작</translation>
    </message>
    <message>
        <location filename="../checkin.py" line="172"/>
        <source>%v of %m done</source>
        <translation>%m개 중 %v개 완료</translation>
    </message>
    <message>
        <location filename="../checkin.py" line="322"/>
        <source>Do what the box above says, one thing after the other.</source>
        <translation>위 상자의 안내대로 하나씩 차례로 해 주세요.</translation>
    </message>
    <message>
        <location filename="../checkin.py" line="402"/>
        <source>Done</source>
        <translation>완료</translation>
    </message>
    <message>
        <location filename="../checkin.py" line="434"/>
        <source>the asked movements</source>
        <translation>요청한 동작</translation>
    </message>
    <message>
        <location filename="../checkin.py" line="435"/>
        <source>Not seen in time: %1. Nothing was marked: try again.</source>
        <translation>시간 안에 확인되지 않았습니다: %1. 출석 처리되지 않았습니다. 다시 해 주세요.</translation>
    </message>
    <message>
        <location filename="../checkin.py" line="438"/>
        <source>Challenge not passed</source>
        <translation>본인 확인 동작 실패</translation>
    </message>
    <message>
        <location filename="../checkin.py" line="440"/>
        <source>Too many failed tries at this PC: check-ins wait a few minutes. Ask your professor.</source>
        <translation>이 PC에서 실패가 너무 많습니다. 몇 분 뒤에 다시 출석할 수 있습니다. 교수님께 문의하세요.</translation>
    </message>
    <message>
        <location filename="../checkin.py" line="533"/>
        <source>Blink</source>
        <translation>눈을 깜빡이세요</translation>
    </message>
    <message>
        <location filename="../checkin.py" line="534"/>
        <source>Turn your head to your left</source>
        <translation>고개를 왼쪽으로 돌리세요</translation>
    </message>
    <message>
        <location filename="../checkin.py" line="535"/>
        <source>Turn your head to your right</source>
        <translation>고개를 오른쪽으로 돌리세요</translation>
    </message>
</context>
<context>
    <name>ConnectionDialog</name>
    <message>
        <location filename="../app.py" line="167"/>
        <source>Connection settings</source>
        <translation>연결 설정</translation>
    </message>
    <message>
        <location filename="../app.py" line="126"/>
        <source>Server host:</source>
        <translation>서버 주소:</translation>
    </message>
    <message>
        <location filename="../app.py" line="127"/>
        <source>Port:</source>
        <translation>포트:</translation>
    </message>
    <message>
        <location filename="../app.py" line="131"/>
        <source>The classroom PC and the professor&apos;s PC talk to the same attendance server.</source>
        <translation>강의실 PC와 교수용 PC는 같은 출석 서버에 연결합니다.</translation>
    </message>
    <message>
        <location filename="../app.py" line="111"/>
        <source>from attendance-db add-client</source>
        <translation>attendance-db add-client 로 받은 토큰</translation>
    </message>
    <message>
        <location filename="../app.py" line="128"/>
        <source>Client token:</source>
        <translation>클라이언트 토큰:</translation>
    </message>
    <message>
        <location filename="../app.py" line="112"/>
        <source>Encrypted connection (TLS)</source>
        <translation>암호화된 연결 (TLS)</translation>
    </message>
    <message>
        <location filename="../app.py" line="115"/>
        <source>empty: the system&apos;s certificate authorities</source>
        <translation>비워 두면: 시스템의 인증 기관</translation>
    </message>
    <message>
        <location filename="../app.py" line="116"/>
        <source>Choose…</source>
        <translation>선택…</translation>
    </message>
    <message>
        <location filename="../app.py" line="130"/>
        <source>Server&apos;s CA certificate:</source>
        <translation>서버의 CA 인증서:</translation>
    </message>
    <message>
        <location filename="../app.py" line="140"/>
        <source>Server&apos;s CA certificate</source>
        <translation>서버의 CA 인증서</translation>
    </message>
    <message>
        <location filename="../app.py" line="140"/>
        <source>PEM certificate (*.pem *.crt)</source>
        <translation>PEM 인증서 (*.pem *.crt)</translation>
    </message>
    <message>
        <location filename="../app.py" line="161"/>
        <source>The CA certificate %1 cannot be used: %2</source>
        <translation>CA 인증서 %1을(를) 사용할 수 없습니다: %2</translation>
    </message>
</context>
<context>
    <name>Enrol</name>
    <message>
        <location filename="../enrol_model.py" line="27"/>
        <source>Straight</source>
        <translation>정면</translation>
    </message>
    <message>
        <location filename="../enrol_model.py" line="28"/>
        <source>A little to the left</source>
        <translation>왼쪽으로 조금</translation>
    </message>
    <message>
        <location filename="../enrol_model.py" line="29"/>
        <source>A little to the right</source>
        <translation>오른쪽으로 조금</translation>
    </message>
    <message>
        <location filename="../enrol_model.py" line="30"/>
        <source>A little up</source>
        <translation>위로 조금</translation>
    </message>
    <message>
        <location filename="../enrol_model.py" line="31"/>
        <source>A little down</source>
        <translation>아래로 조금</translation>
    </message>
    <message>
        <location filename="../enrol_model.py" line="39"/>
        <source>Look straight at the camera.</source>
        <translation>카메라를 정면으로 보세요.</translation>
    </message>
    <message>
        <location filename="../enrol_model.py" line="40"/>
        <source>Turn your head a little to your left.</source>
        <translation>고개를 왼쪽으로 조금 돌리세요.</translation>
    </message>
    <message>
        <location filename="../enrol_model.py" line="41"/>
        <source>Turn your head a little to your right.</source>
        <translation>고개를 오른쪽으로 조금 돌리세요.</translation>
    </message>
    <message>
        <location filename="../enrol_model.py" line="42"/>
        <source>Tilt your head up a little.</source>
        <translation>고개를 조금 드세요.</translation>
    </message>
    <message>
        <location filename="../enrol_model.py" line="43"/>
        <source>Tilt your head down a little.</source>
        <translation>고개를 조금 숙이세요.</translation>
    </message>
    <message>
        <location filename="../enrol_model.py" line="51"/>
        <source>Come closer to the camera.</source>
        <translation>카메라에 더 가까이 오세요.</translation>
    </message>
    <message>
        <location filename="../enrol_model.py" line="52"/>
        <source>Hold still: the picture is blurred.</source>
        <translation>움직이지 마세요. 사진이 흐립니다.</translation>
    </message>
    <message>
        <location filename="../enrol_model.py" line="53"/>
        <source>Open your eyes.</source>
        <translation>눈을 뜨세요.</translation>
    </message>
    <message>
        <location filename="../enrol_model.py" line="54"/>
        <source>Turn a little more to your left.</source>
        <translation>왼쪽으로 조금 더 돌리세요.</translation>
    </message>
    <message>
        <location filename="../enrol_model.py" line="55"/>
        <source>Turn a little more to your right.</source>
        <translation>오른쪽으로 조금 더 돌리세요.</translation>
    </message>
    <message>
        <location filename="../enrol_model.py" line="56"/>
        <source>Tilt your head up a little more.</source>
        <translation>고개를 조금 더 드세요.</translation>
    </message>
    <message>
        <location filename="../enrol_model.py" line="57"/>
        <source>Tilt your head down a little more.</source>
        <translation>고개를 조금 더 숙이세요.</translation>
    </message>
    <message>
        <location filename="../enrol_model.py" line="65"/>
        <source>stored ✓</source>
        <translation>저장됨 ✓</translation>
    </message>
    <message>
        <location filename="../enrol_model.py" line="65"/>
        <source>fine</source>
        <translation>문제없음</translation>
    </message>
    <message>
        <location filename="../enrol_model.py" line="68"/>
        <source>the server found no face: take it again</source>
        <translation>서버가 얼굴을 찾지 못함: 다시 찍으세요</translation>
    </message>
    <message>
        <location filename="../enrol_model.py" line="69"/>
        <source>the server found several faces: take it again</source>
        <translation>서버가 여러 얼굴을 찾음: 다시 찍으세요</translation>
    </message>
    <message>
        <location filename="../enrol_model.py" line="70"/>
        <source>the server could not read the photo: take it again</source>
        <translation>서버가 사진을 읽지 못함: 다시 찍으세요</translation>
    </message>
    <message>
        <location filename="../enrol_model.py" line="71"/>
        <source>unlike this student&apos;s other photos (distance %1)</source>
        <translation>이 학생의 다른 사진과 다름 (거리 %1)</translation>
    </message>
    <message>
        <location filename="../enrol_model.py" line="74"/>
        <source>looks like student %1 (distance %2)</source>
        <translation>학번 %1 학생과 닮음 (거리 %2)</translation>
    </message>
    <message>
        <location filename="../enrol_model.py" line="79"/>
        <source>stored anyway</source>
        <translation>그래도 저장함</translation>
    </message>
    <message>
        <location filename="../enrol_model.py" line="213"/>
        <source>Server: %1</source>
        <translation>서버: %1</translation>
    </message>
    <message>
        <location filename="../enrol_model.py" line="215"/>
        <source>skipped</source>
        <translation>건너뜀</translation>
    </message>
    <message>
        <location filename="../enrol_model.py" line="217"/>
        <source>taken ✓</source>
        <translation>촬영함 ✓</translation>
    </message>
    <message>
        <location filename="../enrol_model.py" line="219"/>
        <source>now: %1</source>
        <translation>지금: %1</translation>
    </message>
    <message>
        <location filename="../enrol_model.py" line="220"/>
        <source>to do</source>
        <translation>남음</translation>
    </message>
</context>
<context>
    <name>EnrolScreen</name>
    <message>
        <location filename="../enrol.py" line="109"/>
        <source>only for a student not enrolled yet</source>
        <translation>아직 등록되지 않은 학생만</translation>
    </message>
    <message>
        <location filename="../enrol.py" line="111"/>
        <source>Student</source>
        <translation>학생</translation>
    </message>
    <message>
        <location filename="../enrol.py" line="113"/>
        <source>Student ID:</source>
        <translation>학번:</translation>
    </message>
    <message>
        <location filename="../enrol.py" line="114"/>
        <source>Name:</source>
        <translation>이름:</translation>
    </message>
    <message>
        <location filename="../enrol.py" line="134"/>
        <source>&amp;Retake</source>
        <translation>다시 찍기(&amp;R)</translation>
    </message>
    <message>
        <location filename="../enrol.py" line="135"/>
        <source>Take the chosen pose again (the straight one: every pose again)</source>
        <translation>선택한 자세를 다시 찍습니다 (정면을 다시 찍으면 모든 자세를 다시 찍습니다)</translation>
    </message>
    <message>
        <location filename="../enrol.py" line="137"/>
        <source>S&amp;kip this pose</source>
        <translation>이 자세 건너뛰기(&amp;K)</translation>
    </message>
    <message>
        <location filename="../enrol.py" line="139"/>
        <source>&amp;New student</source>
        <translation>다음 학생(&amp;N)</translation>
    </message>
    <message>
        <location filename="../enrol.py" line="147"/>
        <source>&amp;Send to the server</source>
        <translation>서버로 보내기(&amp;S)</translation>
    </message>
    <message>
        <location filename="../enrol.py" line="150"/>
        <source>Enrol &amp;anyway…</source>
        <translation>그래도 등록(&amp;A)…</translation>
    </message>
    <message>
        <location filename="../enrol.py" line="158"/>
        <source>Photos</source>
        <translation>사진</translation>
    </message>
    <message>
        <location filename="../enrol.py" line="214"/>
        <source>Only the student may be in front of the camera.</source>
        <translation>카메라 앞에는 등록할 학생만 있어야 합니다.</translation>
    </message>
    <message>
        <location filename="../enrol.py" line="214"/>
        <source>No face in view: look at the camera.</source>
        <translation>얼굴이 보이지 않습니다. 카메라를 보세요.</translation>
    </message>
    <message>
        <location filename="../enrol.py" line="250"/>
        <source>Photo %1 taken.</source>
        <translation>%1번 사진을 찍었습니다.</translation>
    </message>
    <message>
        <location filename="../enrol.py" line="257"/>
        <source>Photos cannot be checked on this PC: %1</source>
        <translation>이 PC에서 사진을 검사할 수 없습니다: %1</translation>
    </message>
    <message>
        <location filename="../enrol.py" line="299"/>
        <source>All photos taken: check the student ID, then send.</source>
        <translation>사진을 모두 찍었습니다. 학번을 확인하고 보내세요.</translation>
    </message>
    <message>
        <location filename="../enrol.py" line="301"/>
        <source>Photo %1 of %2: %3</source>
        <translation>사진 %1/%2: %3</translation>
    </message>
    <message>
        <location filename="../enrol.py" line="330"/>
        <source>Sending %1 photos…</source>
        <translation>사진 %1장을 보내는 중…</translation>
    </message>
    <message>
        <location filename="../enrol.py" line="341"/>
        <source>Enrol anyway?</source>
        <translation>그래도 등록할까요?</translation>
    </message>
    <message>
        <location filename="../enrol.py" line="341"/>
        <source>Enrol these photos although the server found them unlike this student&apos;s other photos or like another student? Do it only after checking the student&apos;s identity (student card): photos of the wrong person let one student be checked in as another.</source>
        <translation>서버가 이 학생의 다른 사진과 다르거나 다른 학생과 닮았다고 판단한 사진입니다. 그래도 등록하시겠습니까? 학생증으로 본인임을 확인한 다음에만 등록하세요. 다른 사람의 사진이 등록되면 한 학생이 다른 학생으로 출석 처리될 수 있습니다.</translation>
    </message>
    <message>
        <location filename="../enrol.py" line="364"/>
        <source>Enrolled %1: %2 photos stored (%3 in all). Press New student for the next one.</source>
        <translation>%1 등록 완료: 사진 %2장 저장 (모두 %3장). 다음 학생을 등록하려면 다음 학생을 누르세요.</translation>
    </message>
    <message>
        <location filename="../enrol.py" line="372"/>
        <source>Not enrolled: take the photos the server could not use again, then send.</source>
        <translation>등록하지 않았습니다. 서버가 쓸 수 없는 사진을 다시 찍은 다음 보내세요.</translation>
    </message>
    <message>
        <location filename="../enrol.py" line="376"/>
        <source>Not enrolled: the server found the problems shown on the photos. Retake them, or enrol anyway after checking the student&apos;s identity.</source>
        <translation>등록하지 않았습니다. 서버가 사진에 표시된 문제를 찾았습니다. 다시 찍거나, 학생 본인임을 확인한 다음 그래도 등록하세요.</translation>
    </message>
    <message>
        <location filename="../enrol.py" line="393"/>
        <source>Student %1 is not enrolled yet: enter their name, then send again.</source>
        <translation>학번 %1 학생은 아직 등록되지 않았습니다. 이름을 입력하고 다시 보내세요.</translation>
    </message>
</context>
<context>
    <name>HistoryModel</name>
    <message>
        <location filename="../history_model.py" line="34"/>
        <source>Changed at</source>
        <translation>변경 시각</translation>
    </message>
    <message>
        <location filename="../history_model.py" line="35"/>
        <source>Change</source>
        <translation>변경</translation>
    </message>
    <message>
        <location filename="../history_model.py" line="36"/>
        <source>How</source>
        <translation>방법</translation>
    </message>
    <message>
        <location filename="../history_model.py" line="37"/>
        <source>By</source>
        <translation>변경자</translation>
    </message>
    <message>
        <location filename="../history_model.py" line="38"/>
        <source>Reason</source>
        <translation>사유</translation>
    </message>
    <message>
        <location filename="../history_model.py" line="55"/>
        <source>%1 (new)</source>
        <translation>%1 (신규)</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <location filename="../app.py" line="199"/>
        <source>Lecture attendance</source>
        <translation>강의 출석</translation>
    </message>
    <message>
        <location filename="../app.py" line="224"/>
        <source>Face check-in</source>
        <translation>얼굴 인식 출석</translation>
    </message>
    <message>
        <location filename="../app.py" line="225"/>
        <source>Roll call</source>
        <translation>호명 출석</translation>
    </message>
    <message>
        <location filename="../app.py" line="303"/>
        <source>Lecture</source>
        <translation>강의</translation>
    </message>
    <message>
        <location filename="../app.py" line="306"/>
        <source>Lecture code:</source>
        <translation>강의 코드:</translation>
    </message>
    <message>
        <location filename="../app.py" line="313"/>
        <source>Connection settings…</source>
        <translation>연결 설정…</translation>
    </message>
    <message>
        <location filename="../app.py" line="317"/>
        <source>&amp;File</source>
        <translation>파일(&amp;F)</translation>
    </message>
    <message>
        <location filename="../app.py" line="320"/>
        <source>&amp;Quit</source>
        <translation>종료(&amp;Q)</translation>
    </message>
    <message>
        <location filename="../app.py" line="324"/>
        <source>&amp;Help</source>
        <translation>도움말(&amp;H)</translation>
    </message>
    <message>
        <location filename="../app.py" line="325"/>
        <source>&amp;About</source>
        <translation>정보(&amp;A)</translation>
    </message>
    <message>
        <location filename="../app.py" line="330"/>
        <source>About</source>
        <translation>정보</translation>
    </message>
    <message>
        <location filename="../app.py" line="330"/>
        <source>Lecture attendance by face recognition.
Face check-in for the classroom PC and roll call for the professor.</source>
        <translation>얼굴 인식 강의 출석.
강의실 PC의 얼굴 인식 출석과 교수용 호명 출석.</translation>
    </message>
    <message>
        <location filename="../app.py" line="355"/>
        <source>%1 is not a lecture code (like ea0017_1).</source>
        <translation>%1은(는) 강의 코드가 아닙니다 (예: ea0017_1).</translation>
    </message>
    <message>
        <location filename="../app.py" line="429"/>
        <source>● Connected to %1</source>
        <translation>● 연결됨: %1</translation>
    </message>
    <message>
        <location filename="../app.py" line="431"/>
        <source>○ Server %1</source>
        <translation>○ 서버 %1</translation>
    </message>
    <message>
        <location filename="../app.py" line="433"/>
        <source>● %1 is not answering</source>
        <translation>● %1 응답 없음</translation>
    </message>
    <message>
        <location filename="../app.py" line="437"/>
        <source>● Server unreachable: %1</source>
        <translation>● 서버에 연결할 수 없음: %1</translation>
    </message>
    <message>
        <location filename="../app.py" line="457"/>
        <source>Marks pending: %1</source>
        <translation>전송 대기 중인 출석: %1</translation>
    </message>
    <message>
        <location filename="../app.py" line="478"/>
        <source>The server refused a mark (%1: %2); it was moved to the rejected log.</source>
        <translation>서버가 출석 기록을 거부했습니다 (%1: %2). 거부 기록 파일로 옮겼습니다.</translation>
    </message>
    <message>
        <location filename="../app.py" line="490"/>
        <source>Cannot save marks</source>
        <translation>출석 기록을 저장할 수 없음</translation>
    </message>
    <message>
        <location filename="../app.py" line="490"/>
        <source>The queue of unsent marks cannot be written (%1). Marks are kept in memory only until the server confirms them.</source>
        <translation>보내지 못한 출석 기록의 대기열 파일을 쓸 수 없습니다 (%1). 서버가 확인할 때까지 메모리에만 보관합니다.</translation>
    </message>
    <message>
        <location filename="../app.py" line="529"/>
        <source>Marks not sent yet</source>
        <translation>아직 보내지 못한 출석</translation>
    </message>
    <message>
        <location filename="../app.py" line="529"/>
        <source>Marks the server has not confirmed yet: %1. They are saved on this computer and will be sent the next time the app starts. Quit anyway?</source>
        <translation>서버가 아직 확인하지 않은 출석 기록: %1. 이 컴퓨터에 저장되어 있으며 다음에 프로그램을 시작할 때 보냅니다. 그래도 종료하시겠습니까?</translation>
    </message>
    <message>
        <location filename="../app.py" line="556"/>
        <source>Roll call not finished</source>
        <translation>호명 출석이 끝나지 않음</translation>
    </message>
    <message>
        <location filename="../app.py" line="556"/>
        <source>Roll call changes not sent: %1 (press Finish to send them). Quit and discard them?</source>
        <translation>보내지 않은 호명 출석 변경: %1 (보내려면 완료를 누르세요). 버리고 종료하시겠습니까?</translation>
    </message>
    <message>
        <location filename="../app.py" line="243"/>
        <source>Report</source>
        <translation>보고서</translation>
    </message>
    <message>
        <location filename="../app.py" line="248"/>
        <source>Classroom camera</source>
        <translation>강의실 카메라</translation>
    </message>
    <message>
        <location filename="../app.py" line="236"/>
        <source>Enrol</source>
        <translation>얼굴 등록</translation>
    </message>
    <message>
        <location filename="../app.py" line="385"/>
        <source>The CA certificate %1 cannot be used (%2): the system&apos;s authorities are trusted instead.</source>
        <translation>CA 인증서 %1을(를) 사용할 수 없어(%2) 대신 시스템의 인증 기관을 신뢰합니다.</translation>
    </message>
    <message>
        <location filename="../app.py" line="435"/>
        <source>● No secure connection to %1 (TLS: certificate not trusted?)</source>
        <translation>● %1에 보안 연결을 할 수 없습니다 (TLS: 신뢰할 수 없는 인증서?)</translation>
    </message>
    <message>
        <location filename="../app.py" line="442"/>
        <source> · not encrypted</source>
        <translation> · 암호화되지 않음</translation>
    </message>
    <message>
        <location filename="../app.py" line="443"/>
        <source>TLS is off: the client token and the names cross the network in clear. Turn it on in File &gt; Connection settings when the server has a certificate.</source>
        <translation>TLS가 꺼져 있습니다. 클라이언트 토큰과 이름이 암호화되지 않은 채 네트워크로 전송됩니다. 서버에 인증서가 있으면 파일 &gt; 연결 설정에서 TLS를 켜세요.</translation>
    </message>
    <message>
        <location filename="../app.py" line="473"/>
        <source>A queued mark is not a valid request and can never be sent (%1); it was moved to the rejected log, and the other marks go on.</source>
        <translation>대기 중인 출석 기록이 올바른 요청이 아니어서 보낼 수 없습니다 (%1). 거부 기록 파일로 옮겼으며 다른 기록은 계속 보냅니다.</translation>
    </message>
    <message>
        <location filename="../app.py" line="502"/>
        <source>Queue of unsent marks damaged</source>
        <translation>보내지 않은 출석 기록 대기열 손상</translation>
    </message>
    <message>
        <location filename="../app.py" line="509"/>
        <source>The queue of unsent marks was damaged. Kept: %1 (they will be sent). Could not be read: %2.</source>
        <translation>보내지 않은 출석 기록 대기열이 손상되었습니다. 보존: %1건 (전송 예정). 읽을 수 없음: %2건.</translation>
    </message>
    <message>
        <location filename="../app.py" line="514"/>
        <source>Entries this version cannot send are in %1.</source>
        <translation>이 버전이 보낼 수 없는 항목은 %1에 있습니다.</translation>
    </message>
    <message>
        <location filename="../app.py" line="518"/>
        <source>The damaged file is kept as %1.</source>
        <translation>손상된 파일은 %1(으)로 보관했습니다.</translation>
    </message>
    <message>
        <location filename="../app.py" line="704"/>
        <source>Another attendance-desktop is already running with the data folder %1 (%2). Only one may run per folder, or the marks they queue would overwrite each other: use the one that runs, or start this one with another ATTENDANCE_DESKTOP_DATA.</source>
        <translation>데이터 폴더 %1을(를) 사용하는 attendance-desktop이 이미 실행 중입니다 (%2). 폴더마다 하나만 실행할 수 있습니다. 그렇지 않으면 대기 중인 출석 기록을 서로 덮어씁니다. 실행 중인 프로그램을 사용하거나, 다른 ATTENDANCE_DESKTOP_DATA로 시작하세요.</translation>
    </message>
</context>
<context>
    <name>Messages</name>
    <message>
        <location filename="../messages.py" line="15"/>
        <source>Cannot reach the attendance server at %1. Check that it is running and the connection settings (File &gt; Connection settings).</source>
        <translation>출석 서버 %1에 연결할 수 없습니다. 서버가 실행 중인지와 연결 설정(파일 &gt; 연결 설정)을 확인하세요.</translation>
    </message>
    <message>
        <location filename="../messages.py" line="20"/>
        <source>The attendance server at %1 did not answer in time.</source>
        <translation>출석 서버 %1이(가) 제시간에 응답하지 않았습니다.</translation>
    </message>
    <message>
        <location filename="../messages.py" line="36"/>
        <source>The program at %1 does not speak the attendance protocol (%2).</source>
        <translation>%1의 프로그램은 출석 프로토콜을 사용하지 않습니다 (%2).</translation>
    </message>
    <message>
        <location filename="../messages.py" line="48"/>
        <source>The server does not know this lecture code.</source>
        <translation>서버에 없는 강의 코드입니다.</translation>
    </message>
    <message>
        <location filename="../messages.py" line="49"/>
        <source>This student is not on the lecture&apos;s roster.</source>
        <translation>이 학생은 강의 수강생 명단에 없습니다.</translation>
    </message>
    <message>
        <location filename="../messages.py" line="50"/>
        <source>The server could not read the picture.</source>
        <translation>서버가 사진을 읽지 못했습니다.</translation>
    </message>
    <message>
        <location filename="../messages.py" line="51"/>
        <source>The server cannot reach its database; try again in a moment.</source>
        <translation>서버가 데이터베이스에 연결할 수 없습니다. 잠시 후 다시 시도하세요.</translation>
    </message>
    <message>
        <location filename="../messages.py" line="54"/>
        <source>The server refused the request as invalid.</source>
        <translation>서버가 잘못된 요청으로 거부했습니다.</translation>
    </message>
    <message>
        <location filename="../messages.py" line="55"/>
        <source>The server took too long to answer.</source>
        <translation>서버 응답이 너무 오래 걸렸습니다.</translation>
    </message>
    <message>
        <location filename="../messages.py" line="56"/>
        <source>The server had an internal error.</source>
        <translation>서버 내부 오류가 발생했습니다.</translation>
    </message>
    <message>
        <location filename="../messages.py" line="71"/>
        <source>The server answered with an error.</source>
        <translation>서버가 오류로 응답했습니다.</translation>
    </message>
    <message>
        <location filename="../messages.py" line="41"/>
        <source>The server does not accept this PC&apos;s client token. Enter the token from attendance-db add-client in File &gt; Connection settings; marks wait until then.</source>
        <translation>서버가 이 PC의 클라이언트 토큰을 받지 않습니다. 파일 &gt; 연결 설정에서 attendance-db add-client 로 받은 토큰을 입력하세요. 그때까지 출석 기록은 보관됩니다.</translation>
    </message>
    <message>
        <location filename="../messages.py" line="58"/>
        <source>Too many requests; the server asks to slow down.</source>
        <translation>요청이 너무 많습니다. 서버가 잠시 후에 보내 달라고 합니다.</translation>
    </message>
    <message>
        <location filename="../messages.py" line="61"/>
        <source>The server is busy; try again in a moment.</source>
        <translation>서버가 바쁩니다. 잠시 후에 다시 시도하세요.</translation>
    </message>
    <message>
        <location filename="../messages.py" line="62"/>
        <source>The pictures show more than one person.</source>
        <translation>사진에 두 사람 이상이 있습니다.</translation>
    </message>
    <message>
        <location filename="../messages.py" line="44"/>
        <source>This PC&apos;s client token is not allowed to do this (its role or lectures). Ask the administrator (attendance-db set-role), or enter another token in File &gt; Connection settings.</source>
        <translation>이 PC의 클라이언트 토큰으로는 이 작업을 할 수 없습니다(역할 또는 강의). 관리자에게 요청하거나(attendance-db set-role) 파일 &gt; 연결 설정에서 다른 토큰을 입력하세요.</translation>
    </message>
    <message>
        <location filename="../messages.py" line="64"/>
        <source>The session is closed: nothing was marked. Please see the professor.</source>
        <translation>수업이 끝나 출석이 기록되지 않았습니다. 교수님께 말씀하세요.</translation>
    </message>
    <message>
        <location filename="../messages.py" line="67"/>
        <source>This PC&apos;s clock or time zone differs from the server&apos;s; set it right.</source>
        <translation>이 PC의 시계나 시간대가 서버와 다릅니다. 바르게 맞추세요.</translation>
    </message>
    <message>
        <location filename="../messages.py" line="24"/>
        <source>No secure connection to %1 (%2): check the TLS settings and the CA certificate.</source>
        <translation>%1에 보안 연결을 할 수 없습니다 (%2). TLS 설정과 CA 인증서를 확인하세요.</translation>
    </message>
    <message>
        <location filename="../messages.py" line="32"/>
        <source>The server accepts encrypted connections only: turn on TLS in File &gt; Connection settings.</source>
        <translation>서버가 암호화된 연결만 받습니다. 파일 &gt; 연결 설정에서 TLS를 켜세요.</translation>
    </message>
</context>
<context>
    <name>PendingModel</name>
    <message>
        <location filename="../pending_model.py" line="94"/>
        <source>This student checked in after the session closed; confirm to mark them (e.g. late).</source>
        <translation>수업이 끝난 뒤 출석한 학생입니다. 확인하면 출석(예: 지각)으로 기록됩니다.</translation>
    </message>
    <message>
        <location filename="../pending_model.py" line="109"/>
        <source>Late check-in, after the close: %s</source>
        <translation>수업 종료 후 출석 시도: %s</translation>
    </message>
    <message>
        <location filename="../pending_model.py" line="73"/>
        <source>Time</source>
        <translation>시각</translation>
    </message>
    <message>
        <location filename="../pending_model.py" line="74"/>
        <source>May be (nearest first)</source>
        <translation>후보 (가까운 순)</translation>
    </message>
    <message>
        <location filename="../pending_model.py" line="75"/>
        <source>Frames</source>
        <translation>프레임</translation>
    </message>
    <message>
        <location filename="../pending_model.py" line="76"/>
        <source>From</source>
        <translation>보낸 PC</translation>
    </message>
    <message>
        <location filename="../pending_model.py" line="96"/>
        <source>The students this face is near, with the face distance (smaller: more alike). Look at the student, then confirm or reject.</source>
        <translation>이 얼굴과 가까운 학생과 얼굴 거리입니다 (작을수록 닮음). 학생을 직접 보고 확인하거나 거부하세요.</translation>
    </message>
</context>
<context>
    <name>ReportModel</name>
    <message>
        <location filename="../report_model.py" line="39"/>
        <source>Not enrolled yet</source>
        <translation>수강 등록 전</translation>
    </message>
    <message>
        <location filename="../report_model.py" line="41"/>
        <source>Open, not marked yet</source>
        <translation>진행 중, 아직 표시 안 됨</translation>
    </message>
    <message>
        <location filename="../report_model.py" line="43"/>
        <source>Absent (or not marked)</source>
        <translation>결석 (또는 표시 안 됨)</translation>
    </message>
    <message>
        <location filename="../report_model.py" line="152"/>
        <source>Student ID</source>
        <translation>학번</translation>
    </message>
    <message>
        <location filename="../report_model.py" line="154"/>
        <source>Name</source>
        <translation>이름</translation>
    </message>
    <message>
        <location filename="../report_model.py" line="162"/>
        <source>Rate %</source>
        <translation>출석률 %</translation>
    </message>
    <message>
        <location filename="../report_model.py" line="171"/>
        <source>open (unmarked students are blank)</source>
        <translation>진행 중 (표시 안 된 학생은 빈칸)</translation>
    </message>
    <message>
        <location filename="../report_model.py" line="172"/>
        <source>session rate: %1</source>
        <translation>회차 출석률: %1</translation>
    </message>
    <message>
        <location filename="../report_model.py" line="174"/>
        <source>Attendance rate in percent: (P + %1 × (L + O)) / (P + L + O + A)</source>
        <translation>출석률(%): (P + %1 × (L + O)) / (P + L + O + A)</translation>
    </message>
    <message>
        <location filename="../report_model.py" line="178"/>
        <source>Sessions: %1</source>
        <translation>회차 수: %1</translation>
    </message>
    <message>
        <location filename="../report_model.py" line="230"/>
        <source>Below %1 %</source>
        <translation>%1 % 미만</translation>
    </message>
    <message>
        <location filename="../report_model.py" line="227"/>
        <source>changed after its session (see the history)</source>
        <translation>수업 이후에 변경됨 (기록 참고)</translation>
    </message>
</context>
<context>
    <name>ReportScreen</name>
    <message>
        <location filename="../report_view.py" line="152"/>
        <source>&amp;Refresh</source>
        <translation>새로 고침(&amp;R)</translation>
    </message>
    <message>
        <location filename="../report_view.py" line="154"/>
        <source>&amp;Save as CSV/XLSX…</source>
        <translation>CSV/XLSX로 저장(&amp;S)…</translation>
    </message>
    <message>
        <location filename="../report_view.py" line="162"/>
        <source>From</source>
        <translation>시작일</translation>
    </message>
    <message>
        <location filename="../report_view.py" line="164"/>
        <source>to</source>
        <translation>종료일</translation>
    </message>
    <message>
        <location filename="../report_view.py" line="167"/>
        <source>Unchecked: no limit</source>
        <translation>선택하지 않으면 제한 없음</translation>
    </message>
    <message>
        <location filename="../report_view.py" line="176"/>
        <source>What a late or left-early session counts for in the rate (0 to 1)</source>
        <translation>지각·조퇴 1회가 출석률에서 출석 몇 회로 계산되는지 (0~1)</translation>
    </message>
    <message>
        <location filename="../report_view.py" line="184"/>
        <source>Students whose attendance rate is under this are listed and highlighted</source>
        <translation>출석률이 이 값보다 낮은 학생을 목록으로 보여 주고 표에서 강조합니다</translation>
    </message>
    <message>
        <location filename="../report_view.py" line="192"/>
        <source>Late weight:</source>
        <translation>지각 가중치:</translation>
    </message>
    <message>
        <location filename="../report_view.py" line="195"/>
        <source>Warn below:</source>
        <translation>경고 기준:</translation>
    </message>
    <message>
        <location filename="../report_view.py" line="218"/>
        <source>The chart appears here once a report is loaded.</source>
        <translation>보고서를 불러오면 여기에 차트가 나타납니다.</translation>
    </message>
    <message>
        <location filename="../report_view.py" line="272"/>
        <source>Enter the lecture code at the top to see its report.</source>
        <translation>보고서를 보려면 위에 강의 코드를 입력하세요.</translation>
    </message>
    <message>
        <location filename="../report_view.py" line="276"/>
        <source>The start date is after the end date.</source>
        <translation>시작일이 종료일보다 늦습니다.</translation>
    </message>
    <message>
        <location filename="../report_view.py" line="283"/>
        <source>Loading the report of %1…</source>
        <translation>%1 보고서를 불러오는 중…</translation>
    </message>
    <message>
        <location filename="../report_view.py" line="333"/>
        <source>No chart: nothing to draw.</source>
        <translation>차트 없음: 그릴 내용이 없습니다.</translation>
    </message>
    <message>
        <location filename="../report_view.py" line="346"/>
        <source>There is no lecture %1 on the server. Check the lecture code.</source>
        <translation>서버에 %1 강의가 없습니다. 강의 코드를 확인하세요.</translation>
    </message>
    <message>
        <location filename="../report_view.py" line="353"/>
        <source>The table shows the report loaded before.</source>
        <translation>표는 전에 불러온 보고서입니다.</translation>
    </message>
    <message>
        <location filename="../report_view.py" line="354"/>
        <source>Report of %1</source>
        <translation>%1 보고서</translation>
    </message>
    <message>
        <location filename="../report_view.py" line="381"/>
        <source>%1 · %2 sessions, %3 to %4 · %5 students</source>
        <translation>%1 · %2회, %3 ~ %4 · 학생 %5명</translation>
    </message>
    <message>
        <location filename="../report_view.py" line="413"/>
        <source>No students are enrolled in %1.</source>
        <translation>%1에 수강 등록된 학생이 없습니다.</translation>
    </message>
    <message>
        <location filename="../report_view.py" line="416"/>
        <source>%1 has no session in this date range.</source>
        <translation>이 기간에는 %1의 수업 회차가 없습니다.</translation>
    </message>
    <message>
        <location filename="../report_view.py" line="417"/>
        <source>%1 has no sessions yet.</source>
        <translation>%1에는 아직 수업 회차가 없습니다.</translation>
    </message>
    <message>
        <location filename="../report_view.py" line="434"/>
        <source>P present, L late, A absent (or not marked), E excused, O left early, - not enrolled yet, blank: session still open. Rate % = (P + %1 × (L + O)) / (P + L + O + A); excused sessions do not count.</source>
        <translation>P 출석, L 지각, A 결석(또는 표시 안 됨), E 공결, O 조퇴, - 수강 등록 전, 빈칸: 진행 중인 회차. 출석률 % = (P + %1 × (L + O)) / (P + L + O + A); 공결은 계산에 넣지 않습니다.</translation>
    </message>
    <message>
        <location filename="../report_view.py" line="458"/>
        <source>No student is below %1 %.</source>
        <translation>%1 % 미만인 학생이 없습니다.</translation>
    </message>
    <message>
        <location filename="../report_view.py" line="462"/>
        <source>and %1 more (highlighted in the table)</source>
        <translation>외 %1명 (표에 강조 표시)</translation>
    </message>
    <message>
        <location filename="../report_view.py" line="480"/>
        <source>Drawing the chart…</source>
        <translation>차트를 그리는 중…</translation>
    </message>
    <message>
        <location filename="../report_view.py" line="502"/>
        <source>The chart cannot be drawn: %1</source>
        <translation>차트를 그릴 수 없습니다: %1</translation>
    </message>
    <message>
        <location filename="../report_view.py" line="508"/>
        <source>Save the report</source>
        <translation>보고서 저장</translation>
    </message>
    <message>
        <location filename="../report_view.py" line="508"/>
        <source>CSV file (*.csv);;Excel workbook (*.xlsx)</source>
        <translation>CSV 파일 (*.csv);;Excel 통합 문서 (*.xlsx)</translation>
    </message>
    <message>
        <location filename="../report_view.py" line="537"/>
        <source>Cannot save %1: %2</source>
        <translation>%1을(를) 저장할 수 없습니다: %2</translation>
    </message>
    <message>
        <location filename="../report_view.py" line="541"/>
        <source>Report saved: %1</source>
        <translation>보고서를 저장했습니다: %1</translation>
    </message>
    <message>
        <location filename="../report_view.py" line="466"/>
        <source>Students below %1 %: %2 — %3</source>
        <translation>출석률 %1 % 미만 학생: %2명 — %3</translation>
    </message>
    <message>
        <location filename="../report_view.py" line="440"/>
        <source>%1: mark changed after its session.</source>
        <translation>%1: 수업 이후에 변경된 출석.</translation>
    </message>
</context>
<context>
    <name>RollCallScreen</name>
    <message>
        <location filename="../rollcall.py" line="146"/>
        <source>&amp;Refresh</source>
        <translation>새로 고침(&amp;R)</translation>
    </message>
    <message>
        <location filename="../rollcall.py" line="184"/>
        <source>Present (P)</source>
        <translation>출석 (P)</translation>
    </message>
    <message>
        <location filename="../rollcall.py" line="185"/>
        <source>Late (L)</source>
        <translation>지각 (L)</translation>
    </message>
    <message>
        <location filename="../rollcall.py" line="186"/>
        <source>Absent (A)</source>
        <translation>결석 (A)</translation>
    </message>
    <message>
        <location filename="../rollcall.py" line="187"/>
        <source>Excused (E)</source>
        <translation>공결 (E)</translation>
    </message>
    <message>
        <location filename="../rollcall.py" line="196"/>
        <source>Undo change (Del)</source>
        <translation>변경 취소 (Del)</translation>
    </message>
    <message>
        <location filename="../rollcall.py" line="202"/>
        <source>Mark all unmarked as Absent</source>
        <translation>미체크 학생 모두 결석 처리</translation>
    </message>
    <message>
        <location filename="../rollcall.py" line="205"/>
        <source>&amp;Finish</source>
        <translation>완료(&amp;F)</translation>
    </message>
    <message>
        <location filename="../rollcall.py" line="304"/>
        <source>Enter the lecture code at the top to load its roster.</source>
        <translation>수강생 명단을 불러오려면 위에 강의 코드를 입력하세요.</translation>
    </message>
    <message>
        <location filename="../rollcall.py" line="307"/>
        <source>Loading the roster of %1…</source>
        <translation>%1 수강생 명단을 불러오는 중…</translation>
    </message>
    <message>
        <location filename="../rollcall.py" line="359"/>
        <source>Lecture %1 · session of %2</source>
        <translation>강의 %1 · %2 수업</translation>
    </message>
    <message>
        <location filename="../rollcall.py" line="419"/>
        <source>Lecture %1</source>
        <translation>강의 %1</translation>
    </message>
    <message>
        <location filename="../rollcall.py" line="570"/>
        <source>Unmarked students marked absent: %1</source>
        <translation>결석 처리한 미체크 학생: %1</translation>
    </message>
    <message>
        <location filename="../rollcall.py" line="574"/>
        <source>Marked %1 of %2 · unmarked %3</source>
        <translation>%2명 중 %1명 체크 · 미체크 %3명</translation>
    </message>
    <message>
        <location filename="../rollcall.py" line="581"/>
        <source>not sent: %1</source>
        <translation>보내지 않음: %1</translation>
    </message>
    <message>
        <location filename="../rollcall.py" line="583"/>
        <source>pending: %1</source>
        <translation>대기 중: %1</translation>
    </message>
    <message>
        <location filename="../rollcall.py" line="591"/>
        <source>Unmarked students</source>
        <translation>미체크 학생</translation>
    </message>
    <message>
        <location filename="../rollcall.py" line="591"/>
        <source>Students without a mark: %1. Send the roll call anyway?</source>
        <translation>출결이 체크되지 않은 학생: %1명. 그래도 보내시겠습니까?</translation>
    </message>
    <message>
        <location filename="../rollcall.py" line="605"/>
        <source>No changes to send.</source>
        <translation>보낼 변경 사항이 없습니다.</translation>
    </message>
    <message>
        <location filename="../rollcall.py" line="633"/>
        <source>Sending the roll call (marks: %1)…</source>
        <translation>호명 출석을 보내는 중 (%1건)…</translation>
    </message>
    <message>
        <location filename="../rollcall.py" line="647"/>
        <source>Roll call saved (marks: %1).</source>
        <translation>호명 출석을 저장했습니다 (%1건).</translation>
    </message>
    <message>
        <location filename="../rollcall.py" line="652"/>
        <source>Marks saved on this PC, sent automatically when the server answers: %1.</source>
        <translation>이 PC에 저장되어 서버가 응답하면 자동으로 보낼 출석 기록: %1건.</translation>
    </message>
    <message>
        <location filename="../rollcall.py" line="666"/>
        <source>The server refused the roll call: %1</source>
        <translation>서버가 호명 출석을 거부했습니다: %1</translation>
    </message>
    <message>
        <location filename="../rollcall.py" line="267"/>
        <source>&amp;Confirm</source>
        <translation>확인(&amp;C)</translation>
    </message>
    <message>
        <location filename="../rollcall.py" line="269"/>
        <source>Re&amp;ject</source>
        <translation>거부(&amp;J)</translation>
    </message>
    <message>
        <location filename="../rollcall.py" line="272"/>
        <source>Confirm as:</source>
        <translation>출석 처리할 학생:</translation>
    </message>
    <message>
        <location filename="../rollcall.py" line="276"/>
        <source>The server was not sure who these faces are. Look at the student: confirm the check-in as them (marked present), or reject it.</source>
        <translation>서버가 누구인지 확실히 알지 못한 얼굴입니다. 학생을 직접 보고 그 학생으로 확인(출석 처리)하거나 거부하세요.</translation>
    </message>
    <message>
        <location filename="../rollcall.py" line="444"/>
        <source>Uncertain check-ins: %1</source>
        <translation>확인이 필요한 출석: %1</translation>
    </message>
    <message>
        <location filename="../rollcall.py" line="452"/>
        <source>Uncertain check-ins waiting for you: %1</source>
        <translation>확인을 기다리는 출석: %1</translation>
    </message>
    <message>
        <location filename="../rollcall.py" line="479"/>
        <source>distance %1</source>
        <translation>거리 %1</translation>
    </message>
    <message>
        <location filename="../rollcall.py" line="490"/>
        <source>Not a candidate</source>
        <translation>후보가 아님</translation>
    </message>
    <message>
        <location filename="../rollcall.py" line="490"/>
        <source>The server did not find this face near %1 (%2). Confirm the check-in as them anyway?</source>
        <translation>서버는 이 얼굴이 %1 (%2) 학생과 가깝다고 보지 않았습니다. 그래도 이 학생으로 출석 처리하시겠습니까?</translation>
    </message>
    <message>
        <location filename="../rollcall.py" line="526"/>
        <source>Check-in confirmed: %1 is marked %2.</source>
        <translation>출석 확인: %1 학생을 %2(으)로 처리했습니다.</translation>
    </message>
    <message>
        <location filename="../rollcall.py" line="532"/>
        <source>Check-in rejected: nobody was marked.</source>
        <translation>출석 거부: 아무도 출석 처리하지 않았습니다.</translation>
    </message>
    <message>
        <location filename="../rollcall.py" line="538"/>
        <source>That check-in was decided already (on another PC?).</source>
        <translation>이미 처리된 출석입니다 (다른 PC에서 처리했을 수 있습니다).</translation>
    </message>
    <message>
        <location filename="../rollcall.py" line="663"/>
        <source>A queued roll call can never be sent (%1); it is in the rejected log.</source>
        <translation>대기 중인 호명 출석은 보낼 수 없습니다 (%1). 거부 기록 파일에 있습니다.</translation>
    </message>
    <message>
        <location filename="../rollcall.py" line="152"/>
        <source>The session to show: today&apos;s, or a past one to correct</source>
        <translation>표시할 수업: 오늘 수업, 또는 정정할 지난 수업</translation>
    </message>
    <message>
        <location filename="../rollcall.py" line="154"/>
        <source>&amp;Today</source>
        <translation>오늘(&amp;T)</translation>
    </message>
    <message>
        <location filename="../rollcall.py" line="158"/>
        <source>Session:</source>
        <translation>수업일:</translation>
    </message>
    <message>
        <location filename="../rollcall.py" line="215"/>
        <source>Why the marks change (needed for a past session)</source>
        <translation>출석을 바꾸는 사유 (지난 수업은 필수)</translation>
    </message>
    <message>
        <location filename="../rollcall.py" line="218"/>
        <source>Your name (kept in the history)</source>
        <translation>교수 이름 (이력에 기록됨)</translation>
    </message>
    <message>
        <location filename="../rollcall.py" line="220"/>
        <source>Reason:</source>
        <translation>사유:</translation>
    </message>
    <message>
        <location filename="../rollcall.py" line="222"/>
        <source>Professor:</source>
        <translation>교수:</translation>
    </message>
    <message>
        <location filename="../rollcall.py" line="379"/>
        <source>History</source>
        <translation>이력</translation>
    </message>
    <message>
        <location filename="../rollcall.py" line="328"/>
        <source>Unsent changes of the other session were dropped.</source>
        <translation>다른 수업의 보내지 않은 변경은 버려졌습니다.</translation>
    </message>
    <message>
        <location filename="../rollcall.py" line="361"/>
        <source>a past session: changes need a reason</source>
        <translation>지난 수업: 변경에는 사유가 필요합니다</translation>
    </message>
    <message>
        <location filename="../rollcall.py" line="383"/>
        <source>History of %1 (%2) on %3</source>
        <translation>%3 %1 (%2)의 이력</translation>
    </message>
    <message>
        <location filename="../rollcall.py" line="405"/>
        <source>no change recorded</source>
        <translation>기록된 변경 없음</translation>
    </message>
    <message>
        <location filename="../rollcall.py" line="410"/>
        <source>History: %1</source>
        <translation>이력: %1</translation>
    </message>
    <message>
        <location filename="../rollcall.py" line="610"/>
        <source>Say why the marks of the session of %1 change (Reason), then press Finish.</source>
        <translation>%1 수업의 출석을 바꾸는 사유를 입력한 뒤 완료를 누르세요.</translation>
    </message>
</context>
<context>
    <name>RosterModel</name>
    <message>
        <location filename="../roster_model.py" line="123"/>
        <source>No.</source>
        <translation>번호</translation>
    </message>
    <message>
        <location filename="../roster_model.py" line="124"/>
        <source>Student ID</source>
        <translation>학번</translation>
    </message>
    <message>
        <location filename="../roster_model.py" line="125"/>
        <source>Name</source>
        <translation>이름</translation>
    </message>
    <message>
        <location filename="../roster_model.py" line="126"/>
        <source>Status</source>
        <translation>출결</translation>
    </message>
    <message>
        <location filename="../roster_model.py" line="127"/>
        <source>Marked by</source>
        <translation>처리 방법</translation>
    </message>
    <message>
        <location filename="../roster_model.py" line="128"/>
        <source>Time</source>
        <translation>시각</translation>
    </message>
    <message>
        <location filename="../roster_model.py" line="194"/>
        <source>Changed, not sent</source>
        <translation>변경됨, 보내지 않음</translation>
    </message>
    <message>
        <location filename="../roster_model.py" line="206"/>
        <source>Sent to the server when you press Finish</source>
        <translation>완료를 누르면 서버로 보냅니다</translation>
    </message>
    <message>
        <location filename="../roster_model.py" line="208"/>
        <source>Saved on this computer; sent again automatically until the server confirms it</source>
        <translation>이 컴퓨터에 저장됨. 서버가 확인할 때까지 자동으로 다시 보냅니다</translation>
    </message>
    <message>
        <location filename="../roster_model.py" line="210"/>
        <source>Recorded by the server</source>
        <translation>서버에 기록됨</translation>
    </message>
    <message>
        <location filename="../roster_model.py" line="211"/>
        <source>No mark yet</source>
        <translation>아직 기록 없음</translation>
    </message>
    <message>
        <location filename="../roster_model.py" line="196"/>
        <source>Pending: %1</source>
        <translation>대기 중: %1</translation>
    </message>
</context>
<context>
    <name>SourcePanel</name>
    <message>
        <location filename="../video_panel.py" line="58"/>
        <source>No camera or video source.
Start with --camera N, --video FILE or --images DIR.</source>
        <translation>카메라나 영상 입력이 없습니다.
--camera N, --video 파일 또는 --images 폴더로 시작하세요.</translation>
    </message>
    <message>
        <location filename="../video_panel.py" line="62"/>
        <source>Starting the camera…</source>
        <translation>카메라를 켜는 중…</translation>
    </message>
    <message>
        <location filename="../video_panel.py" line="73"/>
        <source>Source: %1 · local face detector: %2</source>
        <translation>입력: %1 · 얼굴 검출기: %2</translation>
    </message>
    <message>
        <location filename="../video_panel.py" line="79"/>
        <source>camera %1</source>
        <translation>카메라 %1</translation>
    </message>
    <message>
        <location filename="../video_panel.py" line="80"/>
        <source>video file %1</source>
        <translation>영상 파일 %1</translation>
    </message>
    <message>
        <location filename="../video_panel.py" line="81"/>
        <source>image folder %1</source>
        <translation>이미지 폴더 %1</translation>
    </message>
    <message>
        <location filename="../video_panel.py" line="87"/>
        <source>The video source cannot be used:
%1</source>
        <translation>영상 입력을 사용할 수 없습니다:
%1</translation>
    </message>
    <message>
        <location filename="../video_panel.py" line="88"/>
        <source>Video source: %1</source>
        <translation>영상 입력: %1</translation>
    </message>
    <message>
        <location filename="../video_panel.py" line="91"/>
        <source>finished</source>
        <translation>끝</translation>
    </message>
</context>
<context>
    <name>Status</name>
    <message>
        <location filename="../roster_model.py" line="37"/>
        <source>Present</source>
        <translation>출석</translation>
    </message>
    <message>
        <location filename="../roster_model.py" line="38"/>
        <source>Late</source>
        <translation>지각</translation>
    </message>
    <message>
        <location filename="../roster_model.py" line="39"/>
        <source>Absent</source>
        <translation>결석</translation>
    </message>
    <message>
        <location filename="../roster_model.py" line="40"/>
        <source>Excused</source>
        <translation>공결</translation>
    </message>
    <message>
        <location filename="../roster_model.py" line="41"/>
        <source>Left early</source>
        <translation>조퇴</translation>
    </message>
    <message>
        <location filename="../roster_model.py" line="44"/>
        <source>Unmarked</source>
        <translation>미체크</translation>
    </message>
    <message>
        <location filename="../roster_model.py" line="50"/>
        <source>Face check-in</source>
        <translation>얼굴 인식</translation>
    </message>
    <message>
        <location filename="../roster_model.py" line="51"/>
        <source>Roll call</source>
        <translation>호명</translation>
    </message>
    <message>
        <location filename="../roster_model.py" line="52"/>
        <source>Camera</source>
        <translation>카메라</translation>
    </message>
    <message>
        <location filename="../roster_model.py" line="53"/>
        <source>Manual</source>
        <translation>수동</translation>
    </message>
</context>
<context>
    <name>WatchScreen</name>
    <message>
        <location filename="../../watch/qt_screen.py" line="232"/>
        <source> (warning: %s)</source>
        <translation> (경고: %s)</translation>
    </message>
    <message>
        <location filename="../../watch/qt_screen.py" line="175"/>
        <source>Sample failed: %s</source>
        <translation>샘플 실패: %s</translation>
    </message>
    <message>
        <location filename="../../watch/qt_screen.py" line="176"/>
        <source>Stopped: %s</source>
        <translation>중지됨: %s</translation>
    </message>
    <message>
        <location filename="../../watch/qt_screen.py" line="179"/>
        <source>Stop</source>
        <translation>중지</translation>
    </message>
    <message>
        <location filename="../../watch/qt_screen.py" line="219"/>
        <source>marked by: %s</source>
        <translation>기록 주체: %s</translation>
    </message>
    <message>
        <location filename="../../watch/qt_screen.py" line="259"/>
        <source>Session closed: present %d, late %d, left early %d, absent %d; kept %d marks by people</source>
        <translation>수업 종료: 출석 %d, 지각 %d, 조퇴 %d, 결석 %d; 사람이 남긴 기록 %d건 유지</translation>
    </message>
    <message>
        <location filename="../../watch/qt_screen.py" line="299"/>
        <source>Start</source>
        <translation>시작</translation>
    </message>
    <message>
        <location filename="../../watch/qt_screen.py" line="271"/>
        <source>Stopped</source>
        <translation>중지됨</translation>
    </message>
    <message>
        <location filename="../../watch/qt_screen.py" line="272"/>
        <source>Finished after %d samples</source>
        <translation>샘플 %d개 후 종료</translation>
    </message>
    <message>
        <location filename="../../watch/qt_screen.py" line="279"/>
        <source>Camera</source>
        <translation>카메라</translation>
    </message>
    <message>
        <location filename="../../watch/qt_screen.py" line="279"/>
        <source>Video file</source>
        <translation>동영상 파일</translation>
    </message>
    <message>
        <location filename="../../watch/qt_screen.py" line="283"/>
        <source>recorded lecture (.mp4, .avi)</source>
        <translation>녹화된 강의 (.mp4, .avi)</translation>
    </message>
    <message>
        <location filename="../../watch/qt_screen.py" line="284"/>
        <source>Browse...</source>
        <translation>찾아보기...</translation>
    </message>
    <message>
        <location filename="../../watch/qt_screen.py" line="298"/>
        <source> s</source>
        <translation> 초</translation>
    </message>
    <message>
        <location filename="../../watch/qt_screen.py" line="301"/>
        <source>Close session</source>
        <translation>수업 종료</translation>
    </message>
    <message>
        <location filename="../../watch/qt_screen.py" line="305"/>
        <source>every</source>
        <translation>간격</translation>
    </message>
    <message>
        <location filename="../../watch/qt_screen.py" line="315"/>
        <source>No picture yet</source>
        <translation>아직 화면이 없습니다</translation>
    </message>
    <message>
        <location filename="../../watch/qt_screen.py" line="320"/>
        <source>Student ID</source>
        <translation>학번</translation>
    </message>
    <message>
        <location filename="../../watch/qt_screen.py" line="320"/>
        <source>Name</source>
        <translation>이름</translation>
    </message>
    <message>
        <location filename="../../watch/qt_screen.py" line="320"/>
        <source>Seen</source>
        <translation>확인 시각</translation>
    </message>
    <message>
        <location filename="../../watch/qt_screen.py" line="320"/>
        <source>Status</source>
        <translation>상태</translation>
    </message>
    <message>
        <location filename="../../watch/qt_screen.py" line="342"/>
        <source>Recorded lecture</source>
        <translation>녹화된 강의</translation>
    </message>
    <message>
        <location filename="../../watch/qt_screen.py" line="342"/>
        <source>Videos (*.mp4 *.avi *.mkv *.mov)</source>
        <translation>동영상 (*.mp4 *.avi *.mkv *.mov)</translation>
    </message>
    <message>
        <location filename="../../watch/qt_screen.py" line="365"/>
        <source>Server: %s</source>
        <translation>서버: %s</translation>
    </message>
    <message>
        <location filename="../../watch/qt_screen.py" line="232"/>
        <source>Sample %d at %s: %d faces, %d known, %d uncertain, %d encoded</source>
        <translation>샘플 %d (%s): 얼굴 %d개, 인식 %d명, 불확실 %d명, 인코딩 %d개</translation>
    </message>
    <message>
        <location filename="../../watch/qt_screen.py" line="327"/>
        <source>Green: recognized. Amber: uncertain, not counted as seen. Red: unknown.</source>
        <translation>초록: 인식됨. 주황: 불확실(출석으로 세지 않음). 빨강: 알 수 없음.</translation>
    </message>
</context>
</TS>
